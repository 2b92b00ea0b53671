"""Demos to figures: specs read from source, directives, the content-addressed cache, isolated runs, figure pages."""
