source "azure-arm" "iis" {
  client_id       = var.client_id
  client_secret   = var.client_secret
  tenant_id       = var.tenant_id
  subscription_id = "4c3b2a19-0817-4f6e-9d5c-4b3a29180716"

  os_type         = "Windows"
  image_publisher = "MicrosoftWindowsServer"
  image_offer     = "WindowsServer"
  image_sku       = "2022-datacenter-g2"
  location        = var.region
  vm_size         = "Standard_D4s_v5"

  managed_image_name                = local.image_name
  managed_image_resource_group_name = var.image_rg
  azure_tags                        = local.tags

  communicator   = "winrm"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "7m"
  winrm_username = "packer"
}

build {
  sources = ["source.azure-arm.iis"]

  provisioner "powershell" {
    scripts = ["scripts/iis.ps1", "scripts/app-pool.ps1"]
  }

  provisioner "windows-restart" {
    restart_timeout = "10m"
  }

  provisioner "powershell" {
    inline = [
      "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
      "while($true) { $imageState = Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State | Select ImageState; if($imageState.ImageState -ne 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { Write-Output $imageState.ImageState; Start-Sleep -s 10 } else { break } }",
    ]
  }
}
