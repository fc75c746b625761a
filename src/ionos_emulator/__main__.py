"""`python -m ionos_emulator ...`: the same CLI as the `ionos-emulator` command."""

from .cli import main

main()
