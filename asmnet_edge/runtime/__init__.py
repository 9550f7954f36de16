"""TF-free inference: interpreter loading, metadata, pre/post-processing, face boxes, FaceAligner.

Imports only numpy, the LiteRT interpreter and (optionally) OpenCV.
"""
