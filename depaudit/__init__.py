"""depaudit."""
