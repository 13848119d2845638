"""dashboard/views: one module per page; pages only arrange widgets, queries and charts."""
