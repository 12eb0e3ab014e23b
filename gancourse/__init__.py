"""gancourse: the package behind the GAN course."""
