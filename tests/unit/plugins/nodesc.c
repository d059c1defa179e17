int x_nodesc;
