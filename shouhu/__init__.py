"""Shouhu (守护): care and case management for children."""
