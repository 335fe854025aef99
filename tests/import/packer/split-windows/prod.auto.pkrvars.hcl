image_rg = "rg-web-prod-images"
