"""asmnet_edge.training"""
