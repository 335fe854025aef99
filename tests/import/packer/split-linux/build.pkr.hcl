build {
  sources = ["source.azure-arm.runner"]

  provisioner "shell" {
    script = "scripts/runner.sh"
  }

  provisioner "shell" {
    inline = [
      "sudo systemctl enable --now docker",
      "sudo usermod -aG docker runner",
    ]
  }
}
