# The `data` stack of the end-to-end tests. It breaks two policies on purpose: a public,
# unencrypted bucket. The database password is sensitive and must never be posted.
terraform {
  backend "local" {}
}

variable "db_password" {
  type      = string
  default   = "hunter2-very-secret"
  sensitive = true
}

resource "terraform_data" "bucket" {
  input = {
    name      = "acme-data"
    acl       = "public-read"
    encrypted = false
    tags      = { cost_center = "data" }
  }
}

resource "terraform_data" "db" {
  input = {
    name      = "main"
    password  = var.db_password
    encrypted = true
    tags      = { cost_center = "data" }
  }
}
