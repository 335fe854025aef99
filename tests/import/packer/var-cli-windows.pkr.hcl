variable "location" {
  type = string
}

variable "gallery_resource_group" {
  type = string
}

variable "gallery_name" {
  type    = string
  default = "gal_windows"
}

variable "image_version" {
  type = string
}

variable "replicas" {
  type    = number
  default = 1
}

source "azure-arm" "win" {
  use_azure_cli_auth = true
  os_type            = "Windows"
  image_publisher    = "MicrosoftWindowsServer"
  image_offer        = "WindowsServer"
  image_sku          = "2022-datacenter-azure-edition"
  location           = var.location
  vm_size            = "Standard_D4s_v5"
  communicator       = "winrm"
  winrm_use_ssl      = true
  winrm_insecure     = true
  winrm_timeout      = "10m"
  winrm_username     = "packer"

  shared_image_gallery_destination {
    resource_group       = var.gallery_resource_group
    gallery_name         = var.gallery_name
    image_name           = "win2022-app"
    image_version        = var.image_version
    replication_regions  = [var.location]
  }
  shared_image_gallery_replica_count = var.replicas
}

build {
  sources = ["source.azure-arm.win"]

  provisioner "powershell" {
    inline = ["Install-WindowsFeature -Name NET-Framework-45-Core"]
  }

  provisioner "windows-restart" {}

  provisioner "powershell" {
    inline = [
      "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
      "while($true) { $imageState = Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State | Select ImageState; if($imageState.ImageState -ne 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { Start-Sleep -s 10 } else { break } }",
    ]
  }
}
