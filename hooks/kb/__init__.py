"""Notes to pages: sources read once, front matter checked, wikilinks resolved, backlinks, indexes and the feed."""
