#define UTS_RELEASE "4.18.0-513.5.1.el8_9.x86_64"
