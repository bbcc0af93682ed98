#!/usr/bin/env python
from fabrika.cli import main

if __name__ == "__main__":
    main()
