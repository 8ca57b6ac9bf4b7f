import sys

from aicrc.cli import main

sys.exit(main())
