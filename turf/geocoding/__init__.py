"""Locating households: the geocoder backends and the jobs that use them."""
