"""asmnet_edge.eval"""
