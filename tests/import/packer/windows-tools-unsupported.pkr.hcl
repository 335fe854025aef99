source "azure-arm" "tools" {
  use_azure_cli_auth = true
  os_type            = "Windows"
  image_publisher    = "MicrosoftWindowsServer"
  image_offer        = "WindowsServer"
  image_sku          = "2022-datacenter-azure-edition-hotpatch"
  location           = "centralindia"
  vm_size            = "Standard_D4s_v5"

  managed_image_name                = "win2022-tools"
  managed_image_resource_group_name = "rg-tools"

  communicator   = "winrm"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_username = "packer"
  license_type   = "Windows_Server"
}

build {
  sources = ["source.azure-arm.tools"]

  provisioner "powershell" {
    env = {
      TOOLS_DIR = "C:\\Tools"
      PROXY     = "http://proxy.contoso.example:8080"
    }
    inline = [
      "New-Item -ItemType Directory -Force -Path $env:TOOLS_DIR | Out-Null",
      "[Environment]::SetEnvironmentVariable('HTTP_PROXY', $env:PROXY, 'Machine')",
    ]
  }

  provisioner "windows-shell" {
    inline = ["dism /online /enable-feature /featurename:NetFx3 /all /norestart"]
  }

  provisioner "ansible" {
    playbook_file   = "./playbooks/windows.yml"
    use_proxy       = false
    extra_arguments = ["-e", "ansible_winrm_server_cert_validation=ignore"]
  }

  provisioner "breakpoint" {
    disable = false
  }

  provisioner "powershell" {
    inline       = ["choco install -y git 7zip"]
    max_retries  = 3
    pause_before = "30s"
  }
}
