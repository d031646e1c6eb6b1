// Two services: a profile service taking a bearer token, then an audit service
// taking an API key in its own header.  Either failing refuses the login.
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            httpGet('https://risk.example.com/api/protected?user=' + user.username, {},
                    {type: 'bearer', properties: {token: 'profile-service-token'}}, {
                onSuccess: function (context, data) {
                    httpPost('https://risk.example.com/api/protected', {event: 'login', user: user.username}, {},
                             {type: 'apikey', properties: {apiKey: 'audit-key-1', headerName: 'X-Audit-Key'}}, {
                        onSuccess: function (context, data) {
                            Log.info('audit recorded');
                        },
                        onFail: function (context, data) {
                            fail({errorCode: 'access_denied', errorMessage: 'audit: ' + (data.error || 'failed')});
                        }
                    });
                },
                onFail: function (context, data) {
                    fail({errorCode: 'access_denied', errorMessage: 'profile: ' + (data.error || 'failed')});
                }
            });
        }
    });
};
