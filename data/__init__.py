"The dataset registry (`registry.json`) and small project-made fixtures, installed as `nlpbook.registry`."
