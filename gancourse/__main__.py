"""``python -m gancourse train ...`` (see ``gancourse.cli``); also ``torchrun ... -m gancourse train ...``."""

from gancourse.cli import main

if __name__ == "__main__":
    main()
