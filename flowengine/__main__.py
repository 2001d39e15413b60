"""`python -m flowengine`: the same as the `flowengine` command."""

from flowengine.cli import main

if __name__ == "__main__":
    main()
