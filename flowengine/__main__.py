"""`python -m flowengine`: the same as the `flowengine` command."""

from flowengine._cli import main

if __name__ == "__main__":
    main()
