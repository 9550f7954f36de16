"""asmnet_edge.model"""
