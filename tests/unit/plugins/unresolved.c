int x_unresolved;
