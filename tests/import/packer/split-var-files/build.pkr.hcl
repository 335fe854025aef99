build {
  sources = ["source.azure-arm.sles"]

  provisioner "shell" {
    inline = ["sudo zypper --non-interactive refresh"]
  }
}
