#define UTS_RELEASE "5.14.0-362.8.1.el9_3.x86_64"
