variable "gallery_subscription" {
  type    = string
  default = "c0ffee00-1234-4abc-8def-0123456789ab"
}

variable "image_version" {
  type    = string
  default = "2024.6.0"
}

variable "replicas" {
  type    = number
  default = 2
}

source "azure-arm" "avd" {
  use_azure_cli_auth = true
  os_type            = "Windows"
  image_publisher    = "MicrosoftWindowsDesktop"
  image_offer        = "windows-11"
  image_sku          = "win11-23h2-avd"
  location           = "westus2"
  vm_size            = "Standard_D8s_v5"
  os_disk_size_gb    = 127

  communicator   = "winrm"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "10m"
  winrm_username = "packer"

  shared_image_gallery_destination {
    subscription         = var.gallery_subscription
    resource_group       = "rg-avd"
    gallery_name         = "gal_avd"
    image_name           = "win11-avd"
    image_version        = var.image_version
    replication_regions  = ["westus2", "eastus"]
    storage_account_type = "Premium_LRS"
  }
  shared_image_gallery_replica_count = var.replicas
}

build {
  sources = ["source.azure-arm.avd"]

  provisioner "powershell" {
    elevated_user     = "SYSTEM"
    elevated_password = ""
    inline = [
      "Set-ExecutionPolicy Bypass -Scope Process -Force",
      "New-Item -Path 'HKLM:\\SOFTWARE\\FSLogix\\Profiles' -Force | Out-Null",
      "Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\FSLogix\\Profiles' -Name Enabled -Value 1",
    ]
  }

  provisioner "powershell" {
    script            = "scripts/setup.ps1"
    elevated_user     = "SYSTEM"
    elevated_password = ""
    valid_exit_codes  = [0, 3010]
  }

  provisioner "windows-restart" {
    restart_check_command = "powershell -command \"& {Write-Output 'restarted.'}\""
    restart_timeout       = "15m"
  }

  provisioner "windows-update" {
    search_criteria = "IsInstalled=0"
    filters = [
      "exclude:$_.Title -like '*Preview*'",
      "include:$true",
    ]
    update_limit = 25
  }

  provisioner "windows-restart" {}

  provisioner "powershell" {
    inline = [
      "while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
      "while ((Get-Service WindowsAzureGuestAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
      "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
      "while($true) { $imageState = Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State | Select ImageState; if($imageState.ImageState -ne 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { Write-Output $imageState.ImageState; Start-Sleep -s 10 } else { break } }",
    ]
  }
}
