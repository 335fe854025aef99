location   = "westus2"
image_name = "mariner2-base"
