# The `network` stack of the end-to-end tests: built-in `terraform_data` resources only, so
# planning needs no provider download.
terraform {
  backend "local" {}
}

resource "terraform_data" "vpc" {
  input = {
    name = "core"
    cidr = "10.0.0.0/16"
    tags = { cost_center = "platform" }
  }
}

resource "terraform_data" "subnet" {
  input = {
    name = "private-a"
    cidr = "10.0.1.0/24"
    tags = {}
  }
}
