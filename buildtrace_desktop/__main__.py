from buildtrace_desktop.cli import main

raise SystemExit(main())
