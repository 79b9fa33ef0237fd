"""One router per resource of the helpdesk API; backend.app includes them all (ROUTERS, in order)."""
