"""Organizer pages for turf."""
