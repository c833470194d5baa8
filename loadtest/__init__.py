"""The load test: consumers harvesting and polling the example app under gunicorn + Redis."""
