location   = "centralus"
image_name = "ci-runner-ubuntu"
vm_size    = "Standard_D4s_v5"
