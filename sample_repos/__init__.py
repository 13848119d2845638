"""Declarative scenario histories, materialized into real git repositories for functional tests."""
