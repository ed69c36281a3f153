"""pairsmith's user interfaces: the `pairsmith` CLI (ui.cli) and the Streamlit app (ui.app)."""
