"""asmnet-edge: ASMNet facial landmarks and head pose, from Keras training to on-device LiteRT inference.

The package root stays import-light: TensorFlow is only imported by the modules that train or export.

>>> import asmnet_edge
>>> asmnet_edge.__version__ != ""
True
"""

__version__ = "0.1.0"
