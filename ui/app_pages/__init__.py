"""The app's page modules, run by st.navigation (see ui/app.py); not imported as a package."""
