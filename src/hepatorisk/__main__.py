from hepatorisk.cli import main

raise SystemExit(main())
