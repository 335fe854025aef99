param region string
output echo string = region
