"""`python -m app`: serve the web app with waitress (see `app.serve`)."""

from app.serve import main

raise SystemExit(main())
