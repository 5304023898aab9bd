"""Bridges from lookright models to other NLP toolkits.

Each integration lives in its own module and imports its toolkit there, so `import lookright`
never needs spaCy (or any other optional toolkit) installed:

- `lookright.integrations.spacy_component`: the spaCy pipeline component `"lookright"`
  (`nlp.add_pipe("lookright", config={"model": DIR})`); needs `pip install spacy`.
"""
