variable "subscription_id" {
  type    = string
  default = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
}

variable "vnet_resource_group" {
  type    = string
  default = "rg-hub-network"
}

source "azure-arm" "rhel" {
  subscription_id = var.subscription_id
  client_id       = "00000000-aaaa-bbbb-cccc-111111111111"
  client_secret   = "not-a-real-secret"
  tenant_id       = "22222222-dddd-eeee-ffff-333333333333"

  os_type         = "Linux"
  image_publisher = "RedHat"
  image_offer     = "RHEL"
  image_sku       = "9-lvm-gen2"
  image_version   = "latest"

  plan_info {
    plan_name      = "9-lvm-gen2"
    plan_product   = "RHEL"
    plan_publisher = "redhat"
  }

  build_resource_group_name           = "rg-packer-rhel"
  virtual_network_name                = "vnet-spoke-build"
  virtual_network_subnet_name         = "snet-build"
  virtual_network_resource_group_name = var.vnet_resource_group

  vm_size         = "Standard_D4s_v5"
  os_disk_size_gb = 96

  managed_image_name                = "rhel9-hardened"
  managed_image_resource_group_name = "rg-rhel-images"

  user_data_file = "cloud-init.yaml"
  ssh_username   = "packer"

  spot {
    eviction_policy = "Delete"
    max_price       = 0.1
  }
}

build {
  sources = ["source.azure-arm.rhel"]

  provisioner "shell" {
    environment_vars = ["PROXY=http://proxy.contoso.example:3128", "NO_PROXY=169.254.169.254"]
    inline = [
      "echo \"proxy=$PROXY\" | sudo tee -a /etc/dnf/dnf.conf",
      "sudo dnf -y update",
    ]
  }

  provisioner "file" {
    source      = "files/agent-config"
    destination = "/tmp"
  }

  provisioner "shell" {
    inline = ["sudo mkdir -p /etc/agent", "sudo unzip -o /tmp/agent-config.zip -d /etc/agent"]
  }
}
