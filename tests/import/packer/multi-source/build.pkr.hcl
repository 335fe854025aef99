build {
  sources = ["source.amazon-ebs.aws"]

  source "source.azure-arm.west" {
    vm_size         = "Standard_D4s_v5"
    os_disk_size_gb = 100
  }

  source "source.azure-arm.east" {}

  provisioner "shell" {
    inline = ["echo common step"]
  }

  provisioner "shell" {
    only   = ["amazon-ebs.aws"]
    inline = ["echo aws only"]
  }

  provisioner "shell" {
    except = ["source.azure-arm.east"]
    inline = ["echo not east: ${source.name}"]
  }
}
