source "azure-arm" "ubuntu" {
  use_azure_cli_auth                = true
  os_type                           = "Linux"
  image_publisher                   = "Canonical"
  image_offer                       = "0001-com-ubuntu-server-jammy"
  image_sku                         = "22_04-lts-gen2"
  location                          = "eastus2"
  vm_size                           = "Standard_D2s_v5"
  managed_image_name                = "ubuntu-ansible"
  managed_image_resource_group_name = "rg-ansible"
}

build {
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = ["sudo apt-get update"]
  }

  provisioner "ansible" {
    playbook_file = "./playbooks/site.yml"
  }

  provisioner "file" {
    source = "files/app.conf"
  }

  provisioner "puppet-masterless" {
    manifest_file = "site.pp"
  }

  provisioner "shell" {
    inline = ["sudo systemctl enable nginx"]
  }
}
