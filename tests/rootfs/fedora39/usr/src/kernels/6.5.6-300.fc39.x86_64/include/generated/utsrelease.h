#define UTS_RELEASE "6.5.6-300.fc39.x86_64"
