"""asmnet_edge.bench"""
