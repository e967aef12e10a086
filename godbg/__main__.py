from godbg.cli import main

raise SystemExit(main())
