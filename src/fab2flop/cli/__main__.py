"""`python -m fab2flop.cli`: the same as the `fab2flop` command."""

from fab2flop.cli import main

if __name__ == "__main__":
    main()
