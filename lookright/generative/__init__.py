"""Generative labelling (SIFT-style): the decoder writes the labelled spans as a constrained response.

- `prompts`: the prompt (optional instruction, k demonstrations, the sentence) and the response pieces;
- `demos`: which training sentences serve as demonstrations (most word overlap, or random);
- `constrained`: decoding that can only produce spans over the input's words with valid types;
- `tagger`: `GenerativeTagger`, the same interface as `Tagger` for generative model directories.
"""
