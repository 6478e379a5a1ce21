"""Sphinx extension: each page loads each script once.

Sphinx 7.4 lists an inline script twice when an extension adds it after the builder has started,
as sphinx-thebe does: one copy has the file name ``None``, the other ``""``, so they do not
compare equal. The second ``const THEBE_JS_URL = ...`` then fails in the browser with
"Identifier 'THEBE_JS_URL' has already been declared".
"""


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
